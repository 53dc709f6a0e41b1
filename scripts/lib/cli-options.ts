// The npm scripts' command-line options, read once and checked: a mistyped or unknown option
// stops the script with one line saying what is wrong and how to call it (exit 2), before it
// starts a Redis or a load; never a stack trace, and never a run on NaN.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Prints the problem and the usage, then exits 2 (the shell's "bad usage"). */
export function usageError(problem: string, usage: string): never {
  console.error(`${problem}\nusage: ${usage}`);
  process.exit(2);
}

/** parseArgs's values, or the usage (and exit 2) for an unknown option, a missing value or stray words. */
export function readOptions<const T extends Options>(usage: string, options: T, args?: string[]) {
  const given = args ?? process.argv.slice(2);
  if (given.includes('--help') || given.includes('-h')) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  try {
    return parseArgs({ args: given, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error), usage);
  }
}

/** A whole number from `min` to `max`, written in decimal digits, or the usage and exit 2. */
export function wholeNumber(
  name: string,
  text: string,
  bounds: { min: number; max: number },
  usage: string,
): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max)
    usageError(
      `--${name} must be a whole number from ${bounds.min} to ${bounds.max} (got ${JSON.stringify(text)})`,
      usage,
    );
  return value;
}

/** A comma-separated list of whole numbers, each from `min` to `max`; at least one. */
export function wholeNumbers(
  name: string,
  text: string,
  bounds: { min: number; max: number },
  usage: string,
): number[] {
  const parts = text.split(',');
  if (parts.some((part) => part.trim() === ''))
    usageError(
      `--${name} must be whole numbers separated by commas (got ${JSON.stringify(text)})`,
      usage,
    );
  return parts.map((part) => wholeNumber(name, part, bounds, usage));
}
