// The sd_notify capability: NOTIFY_SOCKET datagram sockets for services (docs/notify.md).
export { NotifyHub, SOCKET_NAME, type NotifyAccess, type NotifyHubOptions } from './hub.js';
export { MAX_DATAGRAM_BYTES, MAX_STATUS_CHARS, parseNotify, isEmptyMessage, type NotifyMessage, type ParseResult } from './protocol.js';
