export * from './amqp-connection.ts';
export * from './topology.ts';
