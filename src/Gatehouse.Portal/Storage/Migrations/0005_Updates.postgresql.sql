CREATE TABLE "Rollouts" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Channel" character varying(64) NOT NULL,
    "Version" character varying(64) NOT NULL,
    "BaselineVersion" character varying(64),
    "Plan" character varying(16) NOT NULL,
    "Days" integer NOT NULL,
    "BakeMinutes" integer,
    "MinDevices" integer,
    "CanaryBasisPoints" integer,
    "InternalGroupIds" text NOT NULL,
    "Pins" text NOT NULL,
    "Deferrals" text NOT NULL,
    "StageIndex" integer NOT NULL,
    "Status" character varying(16) NOT NULL,
    "StageStartedAt" timestamp with time zone NOT NULL,
    "Reason" character varying(1000),
    "Health" text,
    "CreatedAt" timestamp with time zone NOT NULL,
    "UpdatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_Rollouts" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Rollouts_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE TABLE "UpdateReports" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "DeviceId" uuid NOT NULL,
    "Channel" character varying(64) NOT NULL,
    "Version" character varying(64) NOT NULL,
    "Event" character varying(16) NOT NULL,
    "Restarts" integer NOT NULL,
    "Detail" character varying(1000),
    "At" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_UpdateReports" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_UpdateReports_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_Rollouts_TenantId_Channel_CreatedAt" ON "Rollouts" ("TenantId", "Channel", "CreatedAt");

CREATE INDEX "IX_UpdateReports_TenantId_Channel_At" ON "UpdateReports" ("TenantId", "Channel", "At");
