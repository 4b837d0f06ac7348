// The API reference page's live console (`my-app docs --console-js`): exposes the generated
// client's connection class and error type to the page's own script. Bundled by scripts/docs.sh
// with esbuild as a classic script (IIFE) for the browser.

import { CentrifugoRPCClient, RPCError } from '@tasks/client';

(globalThis as unknown as { centrpcConsole: unknown }).centrpcConsole = { CentrifugoRPCClient, RPCError };
