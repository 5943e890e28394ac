CREATE TABLE "Tenants" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Tenants" PRIMARY KEY,
    "Name" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CaCertificatePem" TEXT NOT NULL,
    "CaPrivateKeyProtected" BLOB NOT NULL,
    "ConfigKeyProtected" BLOB NOT NULL,
    "ConfigKeyPublicPem" TEXT NOT NULL
);


CREATE TABLE "Admins" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Admins" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Email" TEXT NOT NULL,
    "PasswordHash" TEXT NOT NULL,
    "Role" TEXT NOT NULL,
    "IsOperator" INTEGER NOT NULL,
    "MustChangePassword" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_Admins_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AuditLog" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AuditLog" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "At" INTEGER NOT NULL,
    "ActorId" TEXT NULL,
    "Actor" TEXT NOT NULL,
    "Action" TEXT NOT NULL,
    "ObjectType" TEXT NOT NULL,
    "ObjectId" TEXT NULL,
    "Before" TEXT NULL,
    "After" TEXT NULL,
    CONSTRAINT "FK_AuditLog_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE RESTRICT
);


CREATE TABLE "Groups" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Groups" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_Groups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Users" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Users" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Email" TEXT NOT NULL,
    "DisplayName" TEXT NOT NULL,
    "Disabled" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_Users_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AdminSessions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AdminSessions" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "AdminId" TEXT NOT NULL,
    "TokenHash" TEXT NOT NULL,
    "CsrfTokenHash" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    CONSTRAINT "FK_AdminSessions_Admins_AdminId" FOREIGN KEY ("AdminId") REFERENCES "Admins" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ApiTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ApiTokens" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "AdminId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "TokenHash" TEXT NOT NULL,
    "Scopes" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "LastUsedAt" INTEGER NULL,
    "Revoked" INTEGER NOT NULL,
    CONSTRAINT "FK_ApiTokens_Admins_AdminId" FOREIGN KEY ("AdminId") REFERENCES "Admins" ("Id") ON DELETE CASCADE
);


CREATE TABLE "GroupMemberships" (
    "UserId" TEXT NOT NULL,
    "GroupId" TEXT NOT NULL,
    CONSTRAINT "PK_GroupMemberships" PRIMARY KEY ("UserId", "GroupId"),
    CONSTRAINT "FK_GroupMemberships_Groups_GroupId" FOREIGN KEY ("GroupId") REFERENCES "Groups" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_GroupMemberships_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
);


CREATE INDEX "IX_AdminSessions_AdminId" ON "AdminSessions" ("AdminId");


CREATE UNIQUE INDEX "IX_AdminSessions_TokenHash" ON "AdminSessions" ("TokenHash");


CREATE UNIQUE INDEX "IX_Admins_Email" ON "Admins" ("Email");


CREATE INDEX "IX_Admins_TenantId" ON "Admins" ("TenantId");


CREATE INDEX "IX_ApiTokens_AdminId" ON "ApiTokens" ("AdminId");


CREATE INDEX "IX_ApiTokens_TenantId_AdminId" ON "ApiTokens" ("TenantId", "AdminId");


CREATE UNIQUE INDEX "IX_ApiTokens_TokenHash" ON "ApiTokens" ("TokenHash");


CREATE INDEX "IX_AuditLog_TenantId_Id" ON "AuditLog" ("TenantId", "Id");


CREATE INDEX "IX_GroupMemberships_GroupId" ON "GroupMemberships" ("GroupId");


CREATE UNIQUE INDEX "IX_Groups_TenantId_Name" ON "Groups" ("TenantId", "Name");


CREATE UNIQUE INDEX "IX_Tenants_Name" ON "Tenants" ("Name");


CREATE UNIQUE INDEX "IX_Users_TenantId_Email" ON "Users" ("TenantId", "Email");


