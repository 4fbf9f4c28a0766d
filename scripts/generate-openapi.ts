// `npm run openapi`: writes openapi/openapi.json from the routes' zod schemas, and the typed client's types from it.
import { writeFile } from 'node:fs/promises';
import { CLIENT_TYPES_PATH, formatDocument, generateClientTypes, generateOpenApi, OPENAPI_PATH } from './openapi-document.js';

const document = await generateOpenApi();
await writeFile(OPENAPI_PATH, formatDocument(document));
console.log(`wrote ${OPENAPI_PATH.pathname}`);
await writeFile(CLIENT_TYPES_PATH, await generateClientTypes(document));
console.log(`wrote ${CLIENT_TYPES_PATH.pathname}`);
