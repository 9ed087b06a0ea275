export * from './logging';
export * from './metrics';
export * from './health';
export * from './shutdown';
export * from './metrics-port';
export * from './trace-context';
