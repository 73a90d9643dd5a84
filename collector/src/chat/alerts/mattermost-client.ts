// @mattermost/client is CommonJS with exports Node's ESM loader cannot see by name:
// take them from the default export, once, here.
// Beside mattermost.ts (chat/alerts/); chat/capture/mattermost-ingest.ts uses it too.
import mattermost from '@mattermost/client';
import type { Client4 as Client4Type, WebSocketClient as WebSocketClientType } from '@mattermost/client';

export const Client4 = mattermost.Client4 as unknown as typeof Client4Type;
export type Client4 = Client4Type;
export const WebSocketClient = mattermost.WebSocketClient as unknown as typeof WebSocketClientType;
export type WebSocketClient = WebSocketClientType;
