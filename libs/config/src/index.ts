export * from './validate-environment';
export * from './validators';
export * from './common-environment';
export * from './settings-module';
export * from './tracing-environment';
