CREATE TABLE "ProxyCredentials" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "UserId" uuid NOT NULL,
    "Description" character varying(200) NOT NULL,
    "PasswordSha256" character varying(64) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ProxyCredentials" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ProxyCredentials_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ProxyCredentials_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
);


CREATE INDEX "IX_ProxyCredentials_TenantId_UserId_Id" ON "ProxyCredentials" ("TenantId", "UserId", "Id");


CREATE INDEX "IX_ProxyCredentials_UserId" ON "ProxyCredentials" ("UserId");
