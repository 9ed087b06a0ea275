export * from './logging.ts';
export * from './metrics.ts';
export * from './health.ts';
export * from './shutdown.ts';
export * from './metrics-port.ts';
export * from './trace-context.ts';
