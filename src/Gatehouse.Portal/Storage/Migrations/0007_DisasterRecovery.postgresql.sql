CREATE TABLE "DrSettings" (
    "TenantId" uuid NOT NULL,
    "RecordName" character varying(253),
    "PublicKeyPem" character varying(1000),
    "EdgeIds" text NOT NULL,
    "DrillGroupId" uuid,
    "Rules" text NOT NULL,
    "DefaultAction" character varying(16) NOT NULL,
    "CheckSeconds" integer NOT NULL,
    "UpdatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_DrSettings" PRIMARY KEY ("TenantId"),
    CONSTRAINT "FK_DrSettings_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);
