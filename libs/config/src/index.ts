export * from './validate-environment';
export * from './validators';
export * from './common-environment';
