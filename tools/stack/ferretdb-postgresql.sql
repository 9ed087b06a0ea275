-- Applied by tools/stack to the PostgreSQL database FerretDB stores in (idempotent).
--
-- FerretDB 1.24 pushes an equality filter down as `_jsonb -> 'field' @> value`, but the
-- indexes it creates are btree indexes on `(_jsonb -> 'field')`, and btree has no `@>`: every
-- find, even by _id, would scan the table. This event trigger gives each btree index FerretDB
-- creates a GIN (jsonb_path_ops) twin on its leading field, which serves `@>`.
CREATE OR REPLACE FUNCTION taskit_ferretdb_gin_twin() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  created record;
  key_expression text;
  schema_name text;
  table_name text;
BEGIN
  FOR created IN
    SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX'
  LOOP
    SELECT pg_get_indexdef(i.indexrelid, 1, true), n.nspname, t.relname
      INTO key_expression, schema_name, table_name
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am am ON am.oid = c.relam
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE i.indexrelid = created.objid AND am.amname = 'btree';
    CONTINUE WHEN key_expression IS NULL OR key_expression NOT LIKE '(_jsonb -> %';
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (%s jsonb_path_ops)',
      left(table_name, 40) || '_' || left(md5(key_expression), 8) || '_gin',
      schema_name, table_name, key_expression);
  END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS taskit_ferretdb_gin_twin;
CREATE EVENT TRIGGER taskit_ferretdb_gin_twin ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION taskit_ferretdb_gin_twin();
