import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

/**
 * The first key in a JSON value that MongoDB cannot store as a field name, with where it is: a key
 * starting with `$` (an operator), holding a dot (a path) or a NUL (BSON ends names with one). Walks
 * the value with an explicit stack, so no depth of nesting can overflow it.
 */
export function unstorableKey(value: unknown): { key: string; path: string } | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: `${path}[${index}]` }));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        if (key.startsWith('$') || key.includes('.') || key.includes('\0')) {
          return { key, path: path ? `${path}.${key}` : key };
        }
        stack.push({ value: child, path: path ? `${path}.${key}` : key });
      }
    }
  }
  return undefined;
}

/**
 * For free-form JSON the hub stores as sent (an operation's result and metadata, a job's config): every
 * key at any depth must be one MongoDB can store, so a hostile key is a 400 naming it, not a 500.
 */
export function IsStorableJson(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isStorableJson',
      target: target.constructor,
      propertyName: propertyName as string,
      ...(options ? { options } : {}),
      validator: {
        validate: (value: unknown) => unstorableKey(value) === undefined,
        defaultMessage: (args: ValidationArguments) => {
          const found = unstorableKey(args.value);
          const where = found ? `${args.property}.${found.path}` : args.property;
          return `${where}: the key ${JSON.stringify(found?.key ?? '')} cannot be stored; keys may not start with $ or contain dots or NUL characters`;
        },
      },
    });
  };
}
