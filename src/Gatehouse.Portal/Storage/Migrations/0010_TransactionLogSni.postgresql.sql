ALTER TABLE "TransactionLogs" ADD "Sni" character varying(253);
