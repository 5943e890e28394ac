CREATE TABLE "AccessRules" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Order" integer NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Action" character varying(16) NOT NULL,
    "Enabled" boolean NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "Criteria" text NOT NULL,
    CONSTRAINT "PK_AccessRules" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_AccessRules_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE TABLE "ServerGroups" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "Servers" text NOT NULL,
    "HealthCheck" character varying(16) NOT NULL,
    "HealthPath" character varying(1000) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ServerGroups" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ServerGroups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_AccessRules_TenantId_Name" ON "AccessRules" ("TenantId", "Name");

CREATE INDEX "IX_AccessRules_TenantId_Order" ON "AccessRules" ("TenantId", "Order");

CREATE UNIQUE INDEX "IX_ServerGroups_TenantId_Name" ON "ServerGroups" ("TenantId", "Name");

ALTER TABLE "AppSegments" ADD "ServerGroupIds" text NOT NULL DEFAULT '[]';

ALTER TABLE "Connectors" ADD "Health" text NULL;
