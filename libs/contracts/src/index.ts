export * from './events';
export * from './topology';
export * from './rpc';
export * from './influx-schema';
