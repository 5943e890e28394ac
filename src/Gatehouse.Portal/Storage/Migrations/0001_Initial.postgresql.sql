CREATE TABLE "Tenants" (
    "Id" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "CaCertificatePem" text NOT NULL,
    "CaPrivateKeyProtected" bytea NOT NULL,
    "ConfigKeyProtected" bytea NOT NULL,
    "ConfigKeyPublicPem" text NOT NULL,
    CONSTRAINT "PK_Tenants" PRIMARY KEY ("Id")
);


CREATE TABLE "Admins" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Email" character varying(254) NOT NULL,
    "PasswordHash" text NOT NULL,
    "Role" character varying(16) NOT NULL,
    "IsOperator" boolean NOT NULL,
    "MustChangePassword" boolean NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_Admins" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Admins_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AuditLog" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "At" timestamp with time zone NOT NULL,
    "ActorId" uuid,
    "Actor" character varying(254) NOT NULL,
    "Action" character varying(64) NOT NULL,
    "ObjectType" character varying(64) NOT NULL,
    "ObjectId" character varying(64),
    "Before" text,
    "After" text,
    CONSTRAINT "PK_AuditLog" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_AuditLog_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE RESTRICT
);


CREATE TABLE "ConfigBundles" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Consumer" character varying(16) NOT NULL,
    "Version" bigint NOT NULL,
    "Document" bytea NOT NULL,
    "BodySha256" character varying(64) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ConfigBundles" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ConfigBundles_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ConnectorGroups" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ConnectorGroups" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ConnectorGroups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Connectors" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "ConnectorGroupId" uuid NOT NULL,
    "Status" character varying(16) NOT NULL,
    "CertificateSerial" character varying(64) NOT NULL,
    "CertificateThumbprint" character varying(64) NOT NULL,
    "CertificateNotAfter" timestamp with time zone NOT NULL,
    "ProvisioningKeyId" uuid,
    "EnrolledAt" timestamp with time zone NOT NULL,
    "LastSeenAt" timestamp with time zone,
    "RevokedAt" timestamp with time zone,
    CONSTRAINT "PK_Connectors" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Connectors_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Edges" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Address" character varying(262) NOT NULL,
    "Status" character varying(16) NOT NULL,
    "CertificateSerial" character varying(64) NOT NULL,
    "CertificateThumbprint" character varying(64) NOT NULL,
    "CertificateNotAfter" timestamp with time zone NOT NULL,
    "ProvisioningKeyId" uuid,
    "EnrolledAt" timestamp with time zone NOT NULL,
    "LastSeenAt" timestamp with time zone,
    "RevokedAt" timestamp with time zone,
    CONSTRAINT "PK_Edges" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Edges_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ForwardingProfiles" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Trusted" character varying(16) NOT NULL,
    "Untrusted" character varying(16) NOT NULL,
    "Vpn" character varying(16) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_ForwardingProfiles" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ForwardingProfiles_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Groups" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_Groups" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Groups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "PolicyRules" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Order" integer NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Action" character varying(16) NOT NULL,
    "Enabled" boolean NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "Criteria" text NOT NULL,
    "Inspect" text NOT NULL,
    CONSTRAINT "PK_PolicyRules" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_PolicyRules_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ProvisioningKeys" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Kind" character varying(16) NOT NULL,
    "ConnectorGroupId" uuid,
    "KeyHash" character varying(64) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "ExpiresAt" timestamp with time zone NOT NULL,
    "MaxUses" integer NOT NULL,
    "UseCount" integer NOT NULL,
    "Revoked" boolean NOT NULL,
    CONSTRAINT "PK_ProvisioningKeys" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ProvisioningKeys_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "SegmentGroups" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_SegmentGroups" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_SegmentGroups_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "UrlCategories" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "Source" character varying(16) NOT NULL,
    "DomainCount" bigint NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_UrlCategories" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_UrlCategories_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Users" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Email" character varying(254) NOT NULL,
    "DisplayName" character varying(200) NOT NULL,
    "Disabled" boolean NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_Users" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Users_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AdminSessions" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "AdminId" uuid NOT NULL,
    "TokenHash" character varying(64) NOT NULL,
    "CsrfTokenHash" character varying(64) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "ExpiresAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_AdminSessions" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_AdminSessions_Admins_AdminId" FOREIGN KEY ("AdminId") REFERENCES "Admins" ("Id") ON DELETE CASCADE
);


CREATE TABLE "ApiTokens" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "AdminId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "TokenHash" character varying(64) NOT NULL,
    "Scopes" text NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "ExpiresAt" timestamp with time zone NOT NULL,
    "LastUsedAt" timestamp with time zone,
    "Revoked" boolean NOT NULL,
    CONSTRAINT "PK_ApiTokens" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_ApiTokens_Admins_AdminId" FOREIGN KEY ("AdminId") REFERENCES "Admins" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AppProfiles" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Priority" integer NOT NULL,
    "GroupIds" text NOT NULL,
    "FailMode" character varying(16) NOT NULL,
    "TrustedNetwork" text NOT NULL,
    "ForwardingProfileId" uuid,
    "CaptivePortalPauseMinutes" integer NOT NULL,
    "LogoutPasswordHash" text,
    "DisablePasswordHash" text,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_AppProfiles" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_AppProfiles_ForwardingProfiles_ForwardingProfileId" FOREIGN KEY ("ForwardingProfileId") REFERENCES "ForwardingProfiles" ("Id") ON DELETE RESTRICT,
    CONSTRAINT "FK_AppProfiles_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "AppSegments" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(100) NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "Enabled" boolean NOT NULL,
    "Domains" text NOT NULL,
    "Cidrs" text NOT NULL,
    "Ports" text NOT NULL,
    "SegmentGroupId" uuid,
    "ConnectorGroupIds" text NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    CONSTRAINT "PK_AppSegments" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_AppSegments_SegmentGroups_SegmentGroupId" FOREIGN KEY ("SegmentGroupId") REFERENCES "SegmentGroups" ("Id") ON DELETE RESTRICT,
    CONSTRAINT "FK_AppSegments_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE
);


CREATE TABLE "CategoryDomains" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "CategoryId" uuid NOT NULL,
    "Domain" character varying(253) NOT NULL,
    CONSTRAINT "PK_CategoryDomains" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_CategoryDomains_UrlCategories_CategoryId" FOREIGN KEY ("CategoryId") REFERENCES "UrlCategories" ("Id") ON DELETE CASCADE
);


CREATE TABLE "Devices" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Name" character varying(200) NOT NULL,
    "UserId" uuid,
    "Os" character varying(100) NOT NULL,
    "AgentVersion" character varying(50) NOT NULL,
    "Status" character varying(16) NOT NULL,
    "CertificateSerial" character varying(64) NOT NULL,
    "CertificateThumbprint" character varying(64) NOT NULL,
    "CertificateNotAfter" timestamp with time zone NOT NULL,
    "EnrollmentTokenId" uuid,
    "EnrolledAt" timestamp with time zone NOT NULL,
    "LastSeenAt" timestamp with time zone,
    "RevokedAt" timestamp with time zone,
    CONSTRAINT "PK_Devices" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_Devices_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_Devices_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE SET NULL
);


CREATE TABLE "EnrollmentTokens" (
    "Id" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
    "Description" character varying(1000) NOT NULL,
    "UserId" uuid,
    "TokenHash" character varying(64) NOT NULL,
    "CreatedAt" timestamp with time zone NOT NULL,
    "ExpiresAt" timestamp with time zone NOT NULL,
    "MaxUses" integer NOT NULL,
    "UseCount" integer NOT NULL,
    "Revoked" boolean NOT NULL,
    CONSTRAINT "PK_EnrollmentTokens" PRIMARY KEY ("Id"),
    CONSTRAINT "FK_EnrollmentTokens_Tenants_TenantId" FOREIGN KEY ("TenantId") REFERENCES "Tenants" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_EnrollmentTokens_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
);


CREATE TABLE "GroupMemberships" (
    "UserId" uuid NOT NULL,
    "GroupId" uuid NOT NULL,
    "TenantId" uuid NOT NULL,
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


