CREATE TABLE "AccessRules" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AccessRules" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Order" INTEGER NOT NULL,
    "Name" TEXT NOT NULL,
    "Action" TEXT NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "Description" TEXT NOT NULL,
    "Criteria" TEXT NOT NULL,
    CONSTRAINT "FK_AccessRules_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE TABLE "ServerGroups" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ServerGroups" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "Servers" TEXT NOT NULL,
    "HealthCheck" TEXT NOT NULL,
    "HealthPath" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_ServerGroups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_AccessRules_TenantId_Name" ON "AccessRules" ("TenantId", "Name");

CREATE INDEX "IX_AccessRules_TenantId_Order" ON "AccessRules" ("TenantId", "Order");

CREATE UNIQUE INDEX "IX_ServerGroups_TenantId_Name" ON "ServerGroups" ("TenantId", "Name");

ALTER TABLE "AppSegments" ADD "ServerGroupIds" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "Connectors" ADD "Health" TEXT NULL;
