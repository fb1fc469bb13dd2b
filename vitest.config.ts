import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [swc.vite()], // reads experimentalDecorators/emitDecoratorMetadata from tsconfig
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts'], testTimeout: 20_000 } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/per-file-database.ts'],
          execArgv: ['--import', 'tsx/esm'], // TypeORM import()s migrations/*.ts natively
          env: { LOG_LEVEL: 'warn' },
          hookTimeout: 60_000,
          testTimeout: 60_000,
        },
      },
    ],
  },
});
