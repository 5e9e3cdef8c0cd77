-- The stand-in's first-boot schema (altibase-sim --init-sql, run only when
-- the data directory holds no database yet): the table manifests/base's
-- aku.conf replicates, SYS.T1, which the e2e writer fills with (ID, 'wID').
CREATE TABLE T1 (ID INTEGER, V VARCHAR(40), PRIMARY KEY (ID));
