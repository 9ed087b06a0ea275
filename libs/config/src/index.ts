export * from './validate-environment.ts';
export * from './validators.ts';
export * from './common-environment.ts';
export * from './settings-module.ts';
export * from './setting-defaults.ts';
export * from './tracing-environment.ts';
export * from './secret-files.ts';
