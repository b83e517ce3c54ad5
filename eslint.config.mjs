// Lint: typescript-eslint with type information. The rules that matter most to a job
// manager are the promise rules: a dropped promise is a dropped error (or a job).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** `() => {}`, `function () {}`, `() => undefined`, `() => null`, `() => void x`, with or without parameters. */
const EMPTY_FN = [
  '[body.type="BlockStatement"][body.body.length=0]',
  '[body.type="Identifier"][body.name="undefined"]',
  '[body.type="Literal"][body.raw="null"]',
  '[body.type="UnaryExpression"][body.operator="void"]',
].map((body) => `:matches(ArrowFunctionExpression, FunctionExpression)${body}`);
const EMPTY_REJECTION_HANDLERS = EMPTY_FN.flatMap((fn) => [
  {
    selector: `CallExpression[callee.property.name="catch"] > ${fn}.arguments:first-child`,
    message: 'An empty .catch() handler drops the error silently: log or handle it (see eslint.config.mjs).',
  },
  {
    selector: `CallExpression[callee.property.name="then"][arguments.length=2] > ${fn}.arguments:nth-child(2)`,
    message:
      'An empty rejection handler in .then() drops the error silently: log or handle it (see eslint.config.mjs).',
  },
]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['examples/*/*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
      // A rejection handler that does nothing drops an error (or a job) without a trace: log
      // it, or handle it, or, where it is only marked handled because it is awaited or
      // reported elsewhere, say where with `// eslint-disable-next-line no-restricted-syntax -- why`.
      'no-restricted-syntax': ['error', ...EMPTY_REJECTION_HANDLERS],
    },
  },
  {
    files: ['**/*.mjs', 'bin/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
