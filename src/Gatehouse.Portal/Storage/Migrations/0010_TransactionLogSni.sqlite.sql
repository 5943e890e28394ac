ALTER TABLE "TransactionLogs" ADD "Sni" TEXT NULL;
