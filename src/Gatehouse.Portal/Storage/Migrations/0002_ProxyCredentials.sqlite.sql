CREATE TABLE "ProxyCredentials" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ProxyCredentials" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "PasswordSha256" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_ProxyCredentials_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ProxyCredentials_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
);


CREATE INDEX "IX_ProxyCredentials_TenantId_UserId_Id" ON "ProxyCredentials" ("TenantId", "UserId", "Id");


CREATE INDEX "IX_ProxyCredentials_UserId" ON "ProxyCredentials" ("UserId");
