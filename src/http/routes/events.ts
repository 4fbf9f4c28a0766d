// GET /v1/events: the caller's events, oldest first — the pull side of the outbox, for catching up without a receiver.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EventFeed } from '../../refunds/event-feed.js';
import { eventDto } from '../dto.js';
import { AUTHENTICATED, described, LEDGER, problemResponses } from '../responses.js';
import { eventListQuery, eventListSchema } from '../schemas.js';
import { callerOf } from './caller.js';

export const eventRoutes: FastifyPluginAsyncZod<{ feed: EventFeed }> = async (app, { feed }) => {
  app.get(
    '/v1/events',
    {
      config: { scope: 'refunds:read' },
      schema: {
        operationId: 'listEvents',
        summary: 'Your events, oldest first',
        description:
          'Every change to your refunds (or to every refund, for a key with `events.all`), the same events that are pushed ' +
          'to `events.url` when one is configured. Page with `starting_after` (the last event id you have).',
        tags: ['events'],
        security: [{ bearerAuth: [] }],
        querystring: eventListQuery,
        response: { 200: described('The caller’s events, oldest first', eventListSchema), ...problemResponses([...AUTHENTICATED, ...LEDGER]) },
      },
    },
    async (request) => {
      const page = await feed.list(callerOf(request).callerId, {
        limit: request.query.limit,
        ...(request.query.starting_after !== undefined ? { startingAfter: request.query.starting_after } : {}),
      });
      return { data: page.data.map(eventDto), has_more: page.hasMore };
    },
  );
};
