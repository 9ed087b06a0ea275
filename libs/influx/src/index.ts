export * from './influxql.ts';
