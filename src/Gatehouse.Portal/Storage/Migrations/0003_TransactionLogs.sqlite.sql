CREATE TABLE "TransactionLogs" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_TransactionLogs" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "EdgeId" TEXT NOT NULL,
    "Time" INTEGER NOT NULL,
    "Kind" TEXT NOT NULL,
    "Listener" TEXT NOT NULL,
    "Action" TEXT NOT NULL,
    "ClientAddress" TEXT NOT NULL,
    "Host" TEXT NOT NULL,
    "Port" INTEGER NOT NULL,
    "UserId" TEXT NULL,
    "UserEmail" TEXT NULL,
    "DeviceId" TEXT NULL,
    "DestinationIp" TEXT NULL,
    "Method" TEXT NULL,
    "Url" TEXT NULL,
    "Status" INTEGER NULL,
    "Category" TEXT NULL,
    "Rule" TEXT NULL,
    "Reason" TEXT NULL,
    "ReferenceId" TEXT NULL,
    "BytesUp" INTEGER NOT NULL,
    "BytesDown" INTEGER NOT NULL,
    "DurationMs" INTEGER NOT NULL,
    CONSTRAINT "FK_TransactionLogs_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE INDEX "IX_TransactionLogs_TenantId_Action_Id" ON "TransactionLogs" ("TenantId", "Action", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_Host_Id" ON "TransactionLogs" ("TenantId", "Host", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_Id" ON "TransactionLogs" ("TenantId", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_Time" ON "TransactionLogs" ("TenantId", "Time");


CREATE INDEX "IX_TransactionLogs_TenantId_UserEmail_Id" ON "TransactionLogs" ("TenantId", "UserEmail", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_UserId_Id" ON "TransactionLogs" ("TenantId", "UserId", "Id");
