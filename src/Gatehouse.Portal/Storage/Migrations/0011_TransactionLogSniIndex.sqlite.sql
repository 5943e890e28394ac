CREATE INDEX "IX_TransactionLogs_TenantId_Sni_Id" ON "TransactionLogs" ("TenantId", "Sni", "Id");
