/** `relive-gemini/client`: Live sessions that survive goAway, drops and restarts. Runs in Node and browsers. */
export { connectResilient, liveUrl, type ConnectResilientParameters } from './connect-resilient.js';
export { ResilientSession, type ResilientCallbacks } from './resilient-session.js';
export type { LifecycleEvent, LifecycleListener } from './events.js';
export type { CloseClass } from './close-classes.js';
export { classifyClose } from './close-classes.js';
export { ClosedBeforeSetupError } from './close-error.js';
export { memoryHandleStore, localStorageHandleStore, type HandleStore, type StoredSession, type TranscriptTurn } from './handle-store.js';
export { realClock, type ClientClock, type ClientTimer } from './clock.js';
