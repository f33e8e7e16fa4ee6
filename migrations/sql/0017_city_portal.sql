-- City portals (issue 13): a description and a contact that the city's
-- admins keep, shown on the city's page.
ALTER TABLE cities
    ADD COLUMN description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    ADD COLUMN contact text NOT NULL DEFAULT '' CHECK (length(contact) <= 500);
