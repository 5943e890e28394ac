CREATE TABLE "TransactionLogs" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "EdgeId" uuid NOT NULL,
    "Time" timestamp with time zone NOT NULL,
    "Kind" character varying(32) NOT NULL,
    "Listener" character varying(32) NOT NULL,
    "Action" character varying(32) NOT NULL,
    "ClientAddress" character varying(64) NOT NULL,
    "Host" character varying(253) NOT NULL,
    "Port" integer NOT NULL,
    "UserId" uuid,
    "UserEmail" character varying(254),
    "DeviceId" uuid,
    "DestinationIp" character varying(64),
    "Method" character varying(32),
    "Url" character varying(4096),
    "Status" integer,
    "Category" character varying(100),
    "Rule" character varying(100),
    "Reason" character varying(1000),
    "ReferenceId" character varying(64),
    "BytesUp" bigint NOT NULL,
    "BytesDown" bigint NOT NULL,
    "DurationMs" bigint NOT NULL,
    CONSTRAINT "PK_TransactionLogs" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_TransactionLogs_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE INDEX "IX_TransactionLogs_TenantId_Action_Id" ON "TransactionLogs" ("TenantId", "Action", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_Host_Id" ON "TransactionLogs" ("TenantId", "Host", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_Id" ON "TransactionLogs" ("TenantId", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_Time" ON "TransactionLogs" ("TenantId", "Time");


CREATE INDEX "IX_TransactionLogs_TenantId_UserEmail_Id" ON "TransactionLogs" ("TenantId", "UserEmail", "Id");


CREATE INDEX "IX_TransactionLogs_TenantId_UserId_Id" ON "TransactionLogs" ("TenantId", "UserId", "Id");
