<?xml version="1.0" encoding="UTF-8"?>
<!-- Feuille de style du SSIAD (DUI de référence du Banc Ségur) : rend un document CDA R2 lisible
     dans un navigateur (titre, usager, auteur, sections). XSLT 1.0, sans ressource externe. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:cda="urn:hl7-org:v3"
                exclude-result-prefixes="cda">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/">
    <html lang="fr">
      <head>
        <meta charset="utf-8"/>
        <title><xsl:value-of select="cda:ClinicalDocument/cda:title"/></title>
        <style>body{font-family:sans-serif;margin:2em} h1{color:#2a4d69} .usager{border:1px solid #999;padding:.5em}</style>
      </head>
      <body>
        <xsl:apply-templates select="cda:ClinicalDocument"/>
        <p><small>SSIAD — document mis en forme par la feuille de style de l'établissement.</small></p>
      </body>
    </html>
  </xsl:template>
  <xsl:template match="cda:ClinicalDocument">
    <h1><xsl:value-of select="cda:title"/></h1>
    <div class="usager">
      <xsl:for-each select="cda:recordTarget/cda:patientRole">
        <strong><xsl:value-of select="cda:patient/cda:name/cda:family"/>
          <xsl:text> </xsl:text><xsl:value-of select="cda:patient/cda:name/cda:given"/></strong>
        <xsl:text> — INS </xsl:text><xsl:value-of select="cda:id[starts-with(@root, '1.2.250.1.213.1.4.')]/@extension"/>
      </xsl:for-each>
    </div>
    <p>Auteur : <xsl:value-of select="cda:author/cda:assignedAuthor/cda:assignedPerson/cda:name/cda:given"/>
      <xsl:text> </xsl:text><xsl:value-of select="cda:author/cda:assignedAuthor/cda:assignedPerson/cda:name/cda:family"/>,
      <xsl:value-of select="cda:author/cda:assignedAuthor/cda:representedOrganization/cda:name"/></p>
    <xsl:for-each select="cda:component/cda:structuredBody//cda:section">
      <h2><xsl:value-of select="cda:title"/></h2>
      <div><xsl:value-of select="cda:text"/></div>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
