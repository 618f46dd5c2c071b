import { fileURLToPath } from 'node:url';
import { CORE_MIGRATIONS, type MigrationDir } from '../core/migrate.js';

/**
 * Every module's migration folder, in the order they run: each module keeps its own
 * versioned `NNN_name.sql` files (core/migrate.ts applies them, once each).
 */
const own = (module: string): MigrationDir => ({ module, dir: fileURLToPath(new URL(`../${module}/migrations/`, import.meta.url)) });

export const MIGRATION_DIRS: readonly MigrationDir[] = [CORE_MIGRATIONS, own('tools'), own('knowledge'), own('agent'), own('channels')];
