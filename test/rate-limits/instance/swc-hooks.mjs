// Module hooks that run the TypeScript sources in a child process, compiled by SWC exactly as Vitest compiles them
// (legacy decorators with metadata, which Nest's dependency injection needs and tsx/esbuild does not emit).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL?.startsWith('file:') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const target = new URL(specifier, context.parentURL);
    if (!existsSync(target)) {
      const typescript = new URL(target.href.replace(/\.js$/, '.ts'));
      if (existsSync(typescript)) return { url: typescript.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const { code } = await swc.transform(await readFile(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    module: { type: 'es6' },
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
