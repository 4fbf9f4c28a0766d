// Tells 405 from 404: remembers every route's path pattern and methods, and answers which methods a path allows.
import type { FastifyInstance } from 'fastify';

export interface RouteTable {
  allowedMethods(path: string): string[];
}

/** Must be called before routes are registered: it listens to Fastify's onRoute hook. */
export function trackRoutes(app: FastifyInstance): RouteTable {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  const byUrl = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    let entry = byUrl.get(route.url);
    if (!entry) {
      const source = route.url
        .split('/')
        .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      // Exact, as the router matches: /v1/refunds/ is no route at all, not one that allows POST.
      entry = { pattern: new RegExp(`^${source}$`), methods: new Set() };
      byUrl.set(route.url, entry);
      routes.push(entry);
    }
    for (const method of [route.method].flat()) entry.methods.add(method);
  });
  return {
    allowedMethods(path) {
      const methods = new Set<string>();
      for (const route of routes) if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
      return [...methods].sort();
    },
  };
}
