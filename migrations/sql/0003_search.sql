-- Search (full-text columns and indexes).
SELECT 1;
