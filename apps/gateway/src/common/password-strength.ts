import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

let estimator: ZxcvbnFactory | undefined;

/**
 * zxcvbn's estimate with its common-password, name and keyboard dictionaries. They are loaded
 * on first use (half a second and several MB), not when the gateway starts.
 */
export function passwordStrength(
  password: string,
  userInputs: string[] = [],
): { score: number; guessesLog10: number } {
  if (estimator === undefined) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ZxcvbnFactory: Factory } =
      require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
    const { adjacencyGraphs, dictionary } =
      require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    /* eslint-enable @typescript-eslint/no-require-imports */
    estimator = new Factory({ dictionary, graphs: adjacencyGraphs });
  }
  return estimator.check(password, userInputs);
}
