-- The Temporal server's databases, next to incasso's, on the same PostgreSQL.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
