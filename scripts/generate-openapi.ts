// `npm run openapi`: writes openapi/openapi.json from the routes' zod schemas.
import { writeFile } from 'node:fs/promises';
import { formatDocument, generateOpenApi, OPENAPI_PATH } from './openapi-document.js';

await writeFile(OPENAPI_PATH, formatDocument(await generateOpenApi()));
console.log(`wrote ${OPENAPI_PATH.pathname}`);
