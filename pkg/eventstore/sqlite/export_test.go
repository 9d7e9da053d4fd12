package sqlite

// Migrations are the embedded migrations, for tests of the schema's history.
var Migrations = migrations
