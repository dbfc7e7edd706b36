// Every table the core owns, in the order they are applied: the journal's first (the engine's
// indexes are on its queue table), then the engine's, then the local users of the login form.
// Modules append their own after these (runtime/platform/modules.ts).
import type { Migration } from './migrations.ts';
import { journalMigrations } from './journal-schema.ts';
import { engineMigrations } from '../workflows/engine-schema.ts';
import { usersMigrations } from '../platform/login/users-table.ts';

export const coreMigrations: readonly Migration[] = [...journalMigrations, ...engineMigrations, ...usersMigrations];
