-- Credit China demo side (PostgreSQL). Applied by bridge.devenv on every schema
-- change; every statement is idempotent. Names follow docs/architecture.md.
-- Dates are `date`, instants `timestamptz` (UTC), amounts in 万元 numeric(24,6).

CREATE SCHEMA IF NOT EXISTS xyzg;
CREATE SCHEMA IF NOT EXISTS bridge;

-- Penalties on display. cf_xdr_zjhm holds a natural person's ID number; it never
-- leaves this side and the display view only shows its masked form.
CREATE TABLE IF NOT EXISTS xyzg.xzcf_gs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    cf_xdr_mc text NOT NULL,
    cf_xdr_lb text NOT NULL,
    cf_xdr_shxym char(18),
    cf_xdr_zjhm varchar(18),
    cf_wsh text NOT NULL,
    cf_wsh_gf text NOT NULL,
    cf_cflb text,
    cf_nr_fk numeric(24,6),
    cf_jdrq date NOT NULL,
    cf_cfjg text,
    cf_cfjgdm char(18),
    dfbm char(6) NOT NULL,
    gs_zt smallint NOT NULL DEFAULT 1,
    gxsj timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT xzcf_gs_lb_ck CHECK (cf_xdr_lb IN ('法人及非法人组织', '自然人', '个体工商户')),
    CONSTRAINT xzcf_gs_zt_ck CHECK (gs_zt BETWEEN 0 AND 4)
);
CREATE INDEX IF NOT EXISTS xzcf_gs_match_ix ON xyzg.xzcf_gs (cf_xdr_shxym, cf_wsh_gf);
CREATE INDEX IF NOT EXISTS xzcf_gs_dfbm_ix ON xyzg.xzcf_gs (dfbm);

-- Restoration outcomes decided on this side (captured by Debezium).
CREATE TABLE IF NOT EXISTS xyzg.xyxf_jg (
    xf_bh varchar(40) PRIMARY KEY,
    xdr_mc text NOT NULL,
    xdr_lb text NOT NULL DEFAULT '法人及非法人组织',
    xdr_shxym char(18),
    xdr_zjhm varchar(18),
    cf_wsh_gf text,
    xf_lx char(2) NOT NULL,
    jdfk_bz boolean NOT NULL DEFAULT false,
    xf_jdwh text,
    xf_rq date NOT NULL,
    xf_jdsj timestamptz,
    xf_dw text,
    xf_dwdm char(18),
    zzgs_sj timestamptz,
    sjly varchar(4) NOT NULL DEFAULT 'XYZG',
    dfbm char(6) NOT NULL,
    gxsj timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT xyxf_jg_lb_ck CHECK (xdr_lb IN ('法人及非法人组织', '自然人', '个体工商户')),
    CONSTRAINT xyxf_jg_lx_ck CHECK (xf_lx IN ('01', '02', '03', '04', '05'))
);
CREATE INDEX IF NOT EXISTS xyxf_jg_match_ix ON xyzg.xyxf_jg (xdr_shxym, cf_wsh_gf);
ALTER TABLE xyzg.xyxf_jg REPLICA IDENTITY FULL;

-- Outcomes received from NECIPS, written by the bridge (cb_writer) only.
CREATE TABLE IF NOT EXISTS xyzg.xyxf_jg_gsxt (
    xf_bh varchar(40) PRIMARY KEY,
    xdr_mc text NOT NULL,
    xdr_lb text NOT NULL DEFAULT '法人及非法人组织',
    xdr_shxym char(18),
    cf_wsh_gf text,
    xf_lx char(2) NOT NULL,
    jdfk_bz boolean NOT NULL DEFAULT false,
    xf_jdwh text,
    xf_rq date,
    xf_jdsj timestamptz,
    xf_dw text,
    xf_dwdm char(18),
    zzgs_sj timestamptz,
    sjly varchar(4) NOT NULL DEFAULT 'GSXT',
    dfbm char(6),
    cb_origin varchar(8),
    cb_src_position text,
    cb_src_commit_ts timestamptz,
    cb_applied_at timestamptz,
    cb_deleted_at timestamptz
);
CREATE INDEX IF NOT EXISTS xyxf_jg_gsxt_match_ix
    ON xyzg.xyxf_jg_gsxt (xdr_shxym, cf_wsh_gf);

-- Display rule: shown (gs_zt = 1) unless the latest outcome for the penalty, by
-- decision instant, among native and staged outcomes hides it (01-04); a withdrawal
-- (05) shows it again. Natural persons match on their ID number, natives only.
CREATE OR REPLACE VIEW xyzg.v_xzcf_display AS
SELECT p.id, p.cf_xdr_mc, p.cf_xdr_lb, p.cf_xdr_shxym,
       CASE WHEN p.cf_xdr_zjhm IS NULL THEN NULL
            ELSE left(p.cf_xdr_zjhm, 6) || '********' || right(p.cf_xdr_zjhm, 4)
       END AS cf_xdr_zjhm_tm,
       p.cf_wsh, p.cf_wsh_gf, p.cf_cflb, p.cf_nr_fk, p.cf_jdrq, p.cf_cfjg,
       p.cf_cfjgdm, p.dfbm, p.gs_zt, p.gxsj
FROM xyzg.xzcf_gs AS p
LEFT JOIN LATERAL (
    SELECT o.xf_lx
    FROM (
        SELECT n.xf_lx, n.xf_jdsj, n.xf_rq, n.xf_bh
        FROM xyzg.xyxf_jg AS n
        WHERE n.cf_wsh_gf = p.cf_wsh_gf
          AND (n.xdr_shxym = p.cf_xdr_shxym
               OR (p.cf_xdr_shxym IS NULL AND n.xdr_zjhm = p.cf_xdr_zjhm))
        UNION ALL
        SELECT s.xf_lx, s.xf_jdsj, s.xf_rq, s.xf_bh
        FROM xyzg.xyxf_jg_gsxt AS s
        WHERE s.cf_wsh_gf = p.cf_wsh_gf
          AND s.xdr_shxym = p.cf_xdr_shxym
          AND s.cb_deleted_at IS NULL
    ) AS o
    ORDER BY o.xf_jdsj DESC NULLS LAST, o.xf_rq DESC NULLS LAST, o.xf_bh DESC
    LIMIT 1
) AS latest ON true
WHERE p.gs_zt = 1
  AND (latest.xf_lx IS NULL OR latest.xf_lx = '05');

-- Bridge bookkeeping lives apart from the registry's tables.
CREATE TABLE IF NOT EXISTS bridge.heartbeat (
    pipeline varchar(64) PRIMARY KEY,
    beat_at timestamptz NOT NULL,
    seq bigint NOT NULL DEFAULT 0
);
