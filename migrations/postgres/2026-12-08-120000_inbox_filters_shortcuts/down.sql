ALTER TABLE staff_users DROP COLUMN keyboard_shortcuts;
DROP TABLE inbox_filters;
