CREATE TABLE "Rollouts" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Rollouts" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Channel" TEXT NOT NULL,
    "Version" TEXT NOT NULL,
    "BaselineVersion" TEXT NULL,
    "Plan" TEXT NOT NULL,
    "Days" INTEGER NOT NULL,
    "BakeMinutes" INTEGER NULL,
    "MinDevices" INTEGER NULL,
    "CanaryBasisPoints" INTEGER NULL,
    "InternalGroupIds" TEXT NOT NULL,
    "Pins" TEXT NOT NULL,
    "Deferrals" TEXT NOT NULL,
    "StageIndex" INTEGER NOT NULL,
    "Status" TEXT NOT NULL,
    "StageStartedAt" INTEGER NOT NULL,
    "Reason" TEXT NULL,
    "Health" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_Rollouts_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE TABLE "UpdateReports" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_UpdateReports" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "DeviceId" TEXT NOT NULL,
    "Channel" TEXT NOT NULL,
    "Version" TEXT NOT NULL,
    "Event" TEXT NOT NULL,
    "Restarts" INTEGER NOT NULL,
    "Detail" TEXT NULL,
    "At" INTEGER NOT NULL,
    CONSTRAINT "FK_UpdateReports_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_Rollouts_TenantId_Channel_CreatedAt" ON "Rollouts" ("TenantId", "Channel", "CreatedAt");

CREATE INDEX "IX_UpdateReports_TenantId_Channel_At" ON "UpdateReports" ("TenantId", "Channel", "At");
