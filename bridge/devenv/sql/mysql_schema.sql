-- NECIPS demo side (MySQL). Applied by bridge.devenv on every schema change; every
-- statement is idempotent. Names follow docs/architecture.md. DATETIME columns hold
-- Beijing local time (UTC+8) except the CB_* bridge columns, which hold UTC.
-- Amounts are BIGINT fen. Binary collation: codes and numbers compare exactly.

CREATE DATABASE IF NOT EXISTS gsxt CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin;
CREATE DATABASE IF NOT EXISTS bridge CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin;

-- Penalties (individual businesses and organisations; natural persons never here).
CREATE TABLE IF NOT EXISTS gsxt.E_CASE_PUB (
    CASEID varchar(40) NOT NULL PRIMARY KEY,
    UNISCID char(18) NOT NULL,
    ENTNAME varchar(200) NOT NULL,
    ENTCATG tinyint NOT NULL,
    PENDECNO varchar(100) NOT NULL,
    PENDECNO_NORM varchar(100) NOT NULL,
    PENTYPE varchar(50),
    PENAM_FEN bigint unsigned,
    PENDECISSDATE datetime NOT NULL,
    PUBLICDATE datetime,
    PENAUTH_CN varchar(200),
    PENAUTH_USCC char(18),
    LOWFINE_FLAG tinyint NOT NULL DEFAULT 0,
    PUBSTATE char(1) NOT NULL DEFAULT 'A',
    S_EXT_NODENUM char(6) NOT NULL,
    KEY E_CASE_PUB_MATCH (UNISCID, PENDECNO_NORM),
    KEY E_CASE_PUB_NODE (S_EXT_NODENUM),
    CONSTRAINT E_CASE_PUB_CATG CHECK (ENTCATG IN (1, 2, 3)),
    CONSTRAINT E_CASE_PUB_STATE CHECK (PUBSTATE IN ('N', 'A', 'S', 'E', 'R'))
) ENGINE=InnoDB;

-- Restoration outcomes decided on this side (captured by Debezium).
CREATE TABLE IF NOT EXISTS gsxt.E_CR_REPAIR (
    REPAIRNO varchar(40) NOT NULL PRIMARY KEY,
    UNISCID char(18) NOT NULL,
    ENTNAME varchar(200) NOT NULL,
    REPAIRTYPE tinyint NOT NULL,
    PENDECNO varchar(100),
    PENDECNO_NORM varchar(100),
    REPDECNO varchar(100),
    REPDECORG_CN varchar(200),
    REPDECORG_USCC char(18),
    REPDATE datetime NOT NULL,
    REPDECTIME datetime(6),
    STOPPUBTIME datetime(6),
    SRCSYS char(2) NOT NULL DEFAULT '01',
    S_EXT_NODENUM char(6) NOT NULL,
    KEY E_CR_REPAIR_MATCH (UNISCID, PENDECNO_NORM),
    CONSTRAINT E_CR_REPAIR_TYPE CHECK (REPAIRTYPE BETWEEN 1 AND 7)
) ENGINE=InnoDB;

-- Outcomes received from Credit China, written by the bridge (cb_writer) only.
CREATE TABLE IF NOT EXISTS gsxt.E_CR_REPAIR_XYZG (
    REPAIRNO varchar(40) NOT NULL PRIMARY KEY,
    UNISCID char(18) NOT NULL,
    ENTNAME varchar(200) NOT NULL,
    REPAIRTYPE tinyint NOT NULL,
    PENDECNO varchar(100),
    PENDECNO_NORM varchar(100),
    REPDECNO varchar(100),
    REPDECORG_CN varchar(200),
    REPDECORG_USCC char(18),
    REPDATE datetime,
    REPDECTIME datetime(6),
    STOPPUBTIME datetime(6),
    SRCSYS char(2) NOT NULL DEFAULT '02',
    S_EXT_NODENUM char(6),
    CB_ORIGIN varchar(8),
    CB_SRC_POSITION text,
    CB_SRC_COMMIT_TS datetime(6),
    CB_APPLIED_AT datetime(6),
    CB_DELETED_AT datetime(6),
    KEY E_CR_REPAIR_XYZG_MATCH (UNISCID, PENDECNO)
) ENGINE=InnoDB;

-- Display rule: shown (PUBSTATE 'A') unless the latest outcome for the penalty, by
-- decision instant, among native and staged outcomes hides it (REPAIRTYPE 1-6); a
-- withdrawal (7) shows it again. Staged rows carry PENDECNO already folded.
CREATE OR REPLACE VIEW gsxt.V_CASE_DISPLAY AS
SELECT p.*
FROM gsxt.E_CASE_PUB AS p
WHERE p.PUBSTATE = 'A'
  AND COALESCE((
      SELECT o.REPAIRTYPE
      FROM (
          SELECT n.REPAIRTYPE, n.REPDECTIME, n.REPDATE, n.REPAIRNO
          FROM gsxt.E_CR_REPAIR AS n
          WHERE n.UNISCID = p.UNISCID AND n.PENDECNO_NORM = p.PENDECNO_NORM
          UNION ALL
          SELECT s.REPAIRTYPE, s.REPDECTIME, s.REPDATE, s.REPAIRNO
          FROM gsxt.E_CR_REPAIR_XYZG AS s
          WHERE s.UNISCID = p.UNISCID
            AND COALESCE(s.PENDECNO_NORM, s.PENDECNO) = p.PENDECNO_NORM
            AND s.CB_DELETED_AT IS NULL
      ) AS o
      ORDER BY o.REPDECTIME DESC, o.REPDATE DESC, o.REPAIRNO DESC
      LIMIT 1), 7) = 7;

CREATE TABLE IF NOT EXISTS bridge.heartbeat (
    pipeline varchar(64) NOT NULL PRIMARY KEY,
    beat_at datetime(6) NOT NULL,
    seq bigint NOT NULL DEFAULT 0
) ENGINE=InnoDB;
