export * from './events.ts';
export * from './topology.ts';
export * from './rpc.ts';
export * from './influx-schema.ts';
export * from './storage.ts';
