export * from './amqp-connection';
