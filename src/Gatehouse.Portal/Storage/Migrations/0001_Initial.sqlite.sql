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


CREATE TABLE "ConfigBundles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ConfigBundles" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Consumer" TEXT NOT NULL,
    "Version" INTEGER NOT NULL,
    "Document" BLOB NOT NULL,
    "BodySha256" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_ConfigBundles_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ConnectorGroups" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ConnectorGroups" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_ConnectorGroups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Connectors" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Connectors" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "ConnectorGroupId" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "CertificateSerial" TEXT NOT NULL,
    "CertificateThumbprint" TEXT NOT NULL,
    "CertificateNotAfter" INTEGER NOT NULL,
    "ProvisioningKeyId" TEXT NULL,
    "EnrolledAt" INTEGER NOT NULL,
    "LastSeenAt" INTEGER NULL,
    "RevokedAt" INTEGER NULL,
    CONSTRAINT "FK_Connectors_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Edges" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Edges" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Address" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "CertificateSerial" TEXT NOT NULL,
    "CertificateThumbprint" TEXT NOT NULL,
    "CertificateNotAfter" INTEGER NOT NULL,
    "ProvisioningKeyId" TEXT NULL,
    "EnrolledAt" INTEGER NOT NULL,
    "LastSeenAt" INTEGER NULL,
    "RevokedAt" INTEGER NULL,
    CONSTRAINT "FK_Edges_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ForwardingProfiles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ForwardingProfiles" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Trusted" TEXT NOT NULL,
    "Untrusted" TEXT NOT NULL,
    "Vpn" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_ForwardingProfiles_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Groups" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Groups" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_Groups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "PolicyRules" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_PolicyRules" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Order" INTEGER NOT NULL,
    "Name" TEXT NOT NULL,
    "Action" TEXT NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "Description" TEXT NOT NULL,
    "Criteria" TEXT NOT NULL,
    "Inspect" TEXT NOT NULL,
    CONSTRAINT "FK_PolicyRules_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ProvisioningKeys" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ProvisioningKeys" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "ConnectorGroupId" TEXT NULL,
    "KeyHash" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "MaxUses" INTEGER NOT NULL,
    "UseCount" INTEGER NOT NULL,
    "Revoked" INTEGER NOT NULL,
    CONSTRAINT "FK_ProvisioningKeys_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "SegmentGroups" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_SegmentGroups" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_SegmentGroups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "UrlCategories" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_UrlCategories" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "Source" TEXT NOT NULL,
    "DomainCount" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_UrlCategories_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
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


CREATE TABLE "AppProfiles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AppProfiles" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Priority" INTEGER NOT NULL,
    "GroupIds" TEXT NOT NULL,
    "FailMode" TEXT NOT NULL,
    "TrustedNetwork" TEXT NOT NULL,
    "ForwardingProfileId" TEXT NULL,
    "CaptivePortalPauseMinutes" INTEGER NOT NULL,
    "LogoutPasswordHash" TEXT NULL,
    "DisablePasswordHash" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_AppProfiles_ForwardingProfiles_ForwardingProfileId" FOREIGN KEY ("ForwardingProfileId") REFERENCES "ForwardingProfiles" ("Id") ON DELETE RESTRICT,
    CONSTRAINT "FK_AppProfiles_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AppSegments" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AppSegments" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "Domains" TEXT NOT NULL,
    "Cidrs" TEXT NOT NULL,
    "Ports" TEXT NOT NULL,
    "SegmentGroupId" TEXT NULL,
    "ConnectorGroupIds" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_AppSegments_SegmentGroups_SegmentGroupId" FOREIGN KEY ("SegmentGroupId") REFERENCES "SegmentGroups" ("Id") ON DELETE RESTRICT,
    CONSTRAINT "FK_AppSegments_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "CategoryDomains" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_CategoryDomains" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "CategoryId" TEXT NOT NULL,
    "Domain" TEXT NOT NULL,
    CONSTRAINT "FK_CategoryDomains_UrlCategories_CategoryId" FOREIGN KEY ("CategoryId") REFERENCES "UrlCategories" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Devices" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Devices" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "UserId" TEXT NULL,
    "Os" TEXT NOT NULL,
    "AgentVersion" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "CertificateSerial" TEXT NOT NULL,
    "CertificateThumbprint" TEXT NOT NULL,
    "CertificateNotAfter" INTEGER NOT NULL,
    "EnrollmentTokenId" TEXT NULL,
    "EnrolledAt" INTEGER NOT NULL,
    "LastSeenAt" INTEGER NULL,
    "RevokedAt" INTEGER NULL,
    CONSTRAINT "FK_Devices_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_Devices_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE SET NULL
);


CREATE TABLE "EnrollmentTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_EnrollmentTokens" PRIMARY KEY,
    "TenantId" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "UserId" TEXT NULL,
    "TokenHash" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    "MaxUses" INTEGER NOT NULL,
    "UseCount" INTEGER NOT NULL,
    "Revoked" INTEGER NOT NULL,
    CONSTRAINT "FK_EnrollmentTokens_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_EnrollmentTokens_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
);


CREATE TABLE "GroupMemberships" (
    "UserId" TEXT NOT NULL,
    "GroupId" TEXT NOT NULL,
    "TenantId" TEXT NOT NULL,
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


CREATE INDEX "IX_AppProfiles_ForwardingProfileId" ON "AppProfiles" ("ForwardingProfileId");


CREATE UNIQUE INDEX "IX_AppProfiles_TenantId_Name" ON "AppProfiles" ("TenantId", "Name");


CREATE INDEX "IX_AppSegments_SegmentGroupId" ON "AppSegments" ("SegmentGroupId");


CREATE UNIQUE INDEX "IX_AppSegments_TenantId_Name" ON "AppSegments" ("TenantId", "Name");


CREATE INDEX "IX_AuditLog_TenantId_Id" ON "AuditLog" ("TenantId", "Id");


CREATE UNIQUE INDEX "IX_CategoryDomains_CategoryId_Domain" ON "CategoryDomains" ("CategoryId", "Domain");


CREATE INDEX "IX_CategoryDomains_TenantId_Domain" ON "CategoryDomains" ("TenantId", "Domain");


CREATE UNIQUE INDEX "IX_ConfigBundles_TenantId_Consumer" ON "ConfigBundles" ("TenantId", "Consumer");


CREATE UNIQUE INDEX "IX_ConnectorGroups_TenantId_Name" ON "ConnectorGroups" ("TenantId", "Name");


CREATE INDEX "IX_Connectors_TenantId_ConnectorGroupId" ON "Connectors" ("TenantId", "ConnectorGroupId");


CREATE INDEX "IX_Connectors_TenantId_Status" ON "Connectors" ("TenantId", "Status");


CREATE INDEX "IX_Devices_TenantId_Id" ON "Devices" ("TenantId", "Id");


CREATE INDEX "IX_Devices_TenantId_Status" ON "Devices" ("TenantId", "Status");


CREATE INDEX "IX_Devices_TenantId_UserId" ON "Devices" ("TenantId", "UserId");


CREATE INDEX "IX_Devices_UserId" ON "Devices" ("UserId");


CREATE INDEX "IX_Edges_TenantId_Status" ON "Edges" ("TenantId", "Status");


CREATE INDEX "IX_EnrollmentTokens_TenantId" ON "EnrollmentTokens" ("TenantId");


CREATE UNIQUE INDEX "IX_EnrollmentTokens_TokenHash" ON "EnrollmentTokens" ("TokenHash");


CREATE INDEX "IX_EnrollmentTokens_UserId" ON "EnrollmentTokens" ("UserId");


CREATE UNIQUE INDEX "IX_ForwardingProfiles_TenantId_Name" ON "ForwardingProfiles" ("TenantId", "Name");


CREATE INDEX "IX_GroupMemberships_GroupId" ON "GroupMemberships" ("GroupId");


CREATE UNIQUE INDEX "IX_Groups_TenantId_Name" ON "Groups" ("TenantId", "Name");


CREATE UNIQUE INDEX "IX_PolicyRules_TenantId_Name" ON "PolicyRules" ("TenantId", "Name");


CREATE INDEX "IX_PolicyRules_TenantId_Order" ON "PolicyRules" ("TenantId", "Order");


CREATE UNIQUE INDEX "IX_ProvisioningKeys_KeyHash" ON "ProvisioningKeys" ("KeyHash");


CREATE INDEX "IX_ProvisioningKeys_TenantId" ON "ProvisioningKeys" ("TenantId");


CREATE UNIQUE INDEX "IX_SegmentGroups_TenantId_Name" ON "SegmentGroups" ("TenantId", "Name");


CREATE UNIQUE INDEX "IX_Tenants_Name" ON "Tenants" ("Name");


CREATE UNIQUE INDEX "IX_UrlCategories_TenantId_Name" ON "UrlCategories" ("TenantId", "Name");


CREATE UNIQUE INDEX "IX_Users_TenantId_Email" ON "Users" ("TenantId", "Email");


