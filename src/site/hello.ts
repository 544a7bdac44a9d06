import { graph, op } from '../orchestrator/core/index.js';

/** Seed 001's `process_numbers`, the orchestrator's smallest end-to-end example. */
export const generateNumbers = op<{ upTo: number }>(
  {
    name: 'generate_numbers',
    description: 'Generate a list of numbers from 1 to `upTo` (10 by default)',
    config: {
      type: 'object',
      properties: { upTo: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10 } },
      additionalProperties: false,
    },
  },
  (ctx) => Array.from({ length: ctx.config.upTo }, (_, i) => i + 1),
);

export const filterEvenNumbers = op(
  { name: 'filter_even_numbers', description: 'Filter even numbers from the list', ins: { numbers: {} } },
  (_ctx, numbers: number[]) => numbers.filter((n) => n % 2 === 0),
);

export const filterOddNumbers = op(
  { name: 'filter_odd_numbers', description: 'Filter odd numbers from the list', ins: { numbers: {} } },
  (_ctx, numbers: number[]) => numbers.filter((n) => n % 2 !== 0),
);

export const sumNumbers = op(
  {
    name: 'sum_numbers',
    description: 'Calculate the sum of the given list of numbers',
    ins: { numbers: {} },
  },
  (_ctx, numbers: number[]) => numbers.reduce((total, n) => total + n, 0),
);

export const sumTwoSums = op(
  {
    name: 'sum_two_sums',
    description: 'Sum the two numbers',
    ins: { first_number: {}, second_number: {} },
  },
  (ctx, first: number, second: number) => {
    const total = first + second;
    ctx.log.info(`the two sums add up to ${total}`);
    return total;
  },
);

export const processNumbers = graph(
  'hello',
  ({ call }) => {
    const numbers = call(generateNumbers);
    const even = call(filterEvenNumbers, { numbers });
    const odd = call(filterOddNumbers, { numbers });
    const evenSum = call(sumNumbers, { numbers: even }, { as: 'sum_even_numbers' });
    const oddSum = call(sumNumbers, { numbers: odd }, { as: 'sum_odd_numbers' });
    call(sumTwoSums, { first_number: evenSum, second_number: oddSum });
  },
  { description: 'Process numbers: generate, split into even and odd, sum each, sum the sums' },
);

export const hello = processNumbers.toJob({ tags: { domain: 'numbers' } });
