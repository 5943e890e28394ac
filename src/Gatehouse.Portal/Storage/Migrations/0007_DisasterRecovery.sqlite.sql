CREATE TABLE "DrSettings" (
    "TenantId" TEXT NOT NULL CONSTRAINT "PK_DrSettings" PRIMARY KEY,
    "RecordName" TEXT NULL,
    "PublicKeyPem" TEXT NULL,
    "EdgeIds" TEXT NOT NULL,
    "DrillGroupId" TEXT NULL,
    "Rules" TEXT NOT NULL,
    "DefaultAction" TEXT NOT NULL,
    "CheckSeconds" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_DrSettings_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);
