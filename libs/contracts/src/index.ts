export * from './events.ts';
export * from './topology.ts';
export * from './rpc.ts';
export * from './influx-schema.ts';
export * from './storage.ts';
export * from './task-list-cache-entry.ts';
export * from './http-limits.ts';
