"""Vocabulary of the generated demo / benchmark catalogue: realistic French CPF trainings.

Each domain lists title stems with the certification they prepare (type, code, libellé,
certificateur, niveau), a duration range in hours and a price range in euros.
"""

DOMAINS = [
    {
        "domaine": "Langues vivantes",
        "formacode": "15254",
        "trainings": [
            (
                "Anglais professionnel - préparation au TOEIC",
                ("RS", "5367", "Test of English for International Communication (TOEIC)", "ETS Global", ""),
                (20, 60),
                (900, 2400),
            ),
            (
                "Anglais - Test Bright Language",
                ("RS", "6225", "Bright Language - évaluation des compétences en langues", "Bright Language", ""),
                (10, 40),
                (600, 1800),
            ),
            (
                "Anglais des affaires - certification Linguaskill",
                ("RS", "5698", "Linguaskill Business", "Cambridge University Press & Assessment", ""),
                (20, 60),
                (1000, 2600),
            ),
            (
                "Espagnol - niveau B1 - certification CLOE",
                (
                    "RS",
                    "6109",
                    "Certificat de compétences en langues de l'enseignement supérieur (CLOE) espagnol",
                    "France Éducation International",
                    "",
                ),
                (20, 50),
                (800, 2000),
            ),
            ("Allemand des affaires - LILATE", ("RS", "5643", "Test LILATE allemand", "Lilate", ""), (20, 50), (800, 2200)),
            ("Italien - débutant - certificat Pipplet", ("RS", "6201", "Pipplet FLEX italien", "Pipplet", ""), (15, 40), (600, 1600)),
            (
                "Français langue étrangère - DELF B2",
                ("RS", "5765", "Diplôme d'études en langue française (DELF)", "France Éducation International", ""),
                (30, 90),
                (900, 2500),
            ),
        ],
        "objectifs": [
            "Communiquer avec aisance à l'oral et à l'écrit dans un contexte professionnel.",
            "Comprendre des documents professionnels et rédiger des courriels clairs.",
            "Atteindre le niveau visé du Cadre européen commun de référence pour les langues.",
        ],
        "contenu": [
            "Grammaire et vocabulaire professionnel, compréhension orale, jeux de rôle, préparation à l'examen.",
            "Présentations orales, réunions, conversations téléphoniques, rédaction de courriels.",
            "Tests blancs, entraînement intensif à la certification, suivi individuel avec un formateur natif.",
        ],
    },
    {
        "domaine": "Bureautique",
        "formacode": "70354",
        "trainings": [
            ("Excel - perfectionnement - certification TOSA", ("RS", "5252", "TOSA Excel", "Isograd", ""), (14, 35), (490, 1400)),
            (
                "Word et PowerPoint - certification ICDL",
                ("RS", "6083", "ICDL - Traitement de texte et présentation", "EuroApTitude", ""),
                (14, 35),
                (450, 1200),
            ),
            ("Excel - les tableaux croisés dynamiques - TOSA", ("RS", "5252", "TOSA Excel", "Isograd", ""), (7, 21), (300, 900)),
            (
                "Outils collaboratifs Microsoft 365 - PCIE",
                ("RS", "6089", "PCIE - Passeport de compétences informatique européen", "EuroApTitude", ""),
                (14, 28),
                (400, 1100),
            ),
        ],
        "objectifs": [
            "Maîtriser les fonctions avancées du tableur : formules, tableaux croisés, graphiques.",
            "Produire des documents professionnels structurés et des présentations efficaces.",
        ],
        "contenu": [
            "Formules conditionnelles, RECHERCHEX, tableaux croisés dynamiques, mise en forme conditionnelle.",
            "Mise en page, styles, publipostage, diaporamas animés, travail collaboratif.",
        ],
    },
    {
        "domaine": "Informatique et numérique",
        "formacode": "31054",
        "trainings": [
            (
                "Développeur web et web mobile",
                ("RNCP", "37674", "Développeur web et web mobile", "Ministère du Travail", "5"),
                (400, 800),
                (5000, 9000),
            ),
            ("Python pour l'analyse de données", ("RS", "6208", "Analyser des données avec Python", "Datascientest", ""), (35, 120), (1500, 4500)),
            (
                "Cybersécurité - les fondamentaux",
                ("RS", "5958", "Sensibilisation et fondamentaux de la cybersécurité", "ANSSI partenaires", ""),
                (21, 70),
                (1200, 3500),
            ),
            (
                "Administrateur systèmes, réseaux et bases de données",
                ("RNCP", "36061", "Administrateur d'infrastructures sécurisées", "Ministère du Travail", "6"),
                (500, 900),
                (6000, 11000),
            ),
            (
                "Concepteur développeur d'applications",
                ("RNCP", "37873", "Concepteur développeur d'applications", "Ministère du Travail", "6"),
                (600, 1200),
                (7000, 12000),
            ),
        ],
        "objectifs": [
            "Concevoir, développer et déployer des applications sécurisées.",
            "Analyser des jeux de données et automatiser des traitements.",
        ],
        "contenu": [
            "Algorithmique, programmation orientée objet, bases de données SQL, tests, déploiement.",
            "HTML, CSS, JavaScript, frameworks, API REST, accessibilité numérique.",
        ],
    },
    {
        "domaine": "Comptabilité et gestion",
        "formacode": "32663",
        "trainings": [
            (
                "Comptabilité - Gestionnaire comptable et fiscal",
                ("RNCP", "36740", "Gestionnaire comptable et fiscal", "Ministère du Travail", "5"),
                (300, 700),
                (3500, 7500),
            ),
            ("Gestionnaire de paie", ("RNCP", "35735", "Gestionnaire de paie", "Ministère du Travail", "5"), (300, 600), (3500, 7000)),
            (
                "Comptabilité générale pour non-spécialistes",
                ("RS", "5779", "Réaliser les travaux comptables courants", "CCI France", ""),
                (21, 70),
                (800, 2400),
            ),
            (
                "Assistant ressources humaines",
                ("RNCP", "35030", "Assistant ressources humaines", "Ministère du Travail", "5"),
                (300, 600),
                (3500, 6500),
            ),
        ],
        "objectifs": [
            "Tenir la comptabilité courante et préparer les déclarations fiscales.",
            "Établir les bulletins de paie et les déclarations sociales.",
        ],
        "contenu": [
            "Plan comptable, écritures, rapprochements bancaires, TVA, clôture des comptes.",
            "Paie, cotisations sociales, DSN, contrats de travail, logiciel de paie.",
        ],
    },
    {
        "domaine": "Management et gestion de projet",
        "formacode": "32054",
        "trainings": [
            (
                "Management d'équipe - Manager de proximité",
                ("RS", "5887", "Manager une équipe de proximité", "CCI France", ""),
                (28, 70),
                (1200, 3200),
            ),
            ("Gestion de projet agile - certification Scrum", ("RS", "5601", "Scrum Master", "Scrum.org", ""), (14, 35), (900, 2500)),
            (
                "Gestion de projet - préparation PMP",
                ("RS", "5621", "Project Management Professional (PMP)", "Project Management Institute", ""),
                (35, 70),
                (1800, 3600),
            ),
        ],
        "objectifs": ["Animer une équipe, conduire des entretiens et piloter l'activité.", "Planifier et piloter un projet de bout en bout."],
        "contenu": [
            "Posture managériale, délégation, gestion des conflits, entretiens annuels.",
            "Cadrage, planification, gestion des risques, méthodes agiles, outils de suivi.",
        ],
    },
    {
        "domaine": "Transport et logistique",
        "formacode": "31795",
        "trainings": [
            (
                "Permis B - boîte manuelle",
                ("PERMIS", "PERMIS-B", "Permis de conduire catégorie B", "Ministère de l'Intérieur", ""),
                (20, 35),
                (900, 1800),
            ),
            (
                "Permis C - poids lourd",
                ("PERMIS", "PERMIS-C", "Permis de conduire catégorie C", "Ministère de l'Intérieur", ""),
                (70, 140),
                (2000, 3500),
            ),
            ("CACES R489 - chariots élévateurs", ("RS", "5045", "CACES R489 chariots de manutention", "INRS", ""), (14, 35), (500, 1300)),
            ("Cariste d'entrepôt", ("RNCP", "38115", "Cariste d'entrepôt", "Ministère du Travail", "3"), (300, 500), (3000, 5500)),
        ],
        "objectifs": ["Conduire en sécurité et réussir l'examen.", "Conduire des chariots de manutention en respectant les règles de sécurité."],
        "contenu": [
            "Code de la route, conduite en circulation, manœuvres, examen blanc.",
            "Réglementation, vérifications, conduite, chargement et déchargement.",
        ],
    },
    {
        "domaine": "Santé, social et services à la personne",
        "formacode": "43441",
        "trainings": [
            (
                "Assistant de vie aux familles",
                ("RNCP", "35506", "Assistant de vie aux familles", "Ministère du Travail", "3"),
                (400, 800),
                (3500, 6000),
            ),
            (
                "Accompagnant éducatif et social",
                ("RNCP", "36004", "Diplôme d'État d'accompagnant éducatif et social", "Ministère des Solidarités", "3"),
                (500, 1000),
                (4000, 7000),
            ),
            ("Sauveteur secouriste du travail (SST)", ("RS", "727", "Sauveteur secouriste du travail", "INRS", ""), (14, 14), (200, 400)),
        ],
        "objectifs": ["Accompagner les personnes dans les actes de la vie quotidienne.", "Porter secours en cas d'accident sur le lieu de travail."],
        "contenu": [
            "Hygiène, sécurité, aide aux repas, communication avec la personne et sa famille.",
            "Protection, examen, alerte, gestes de secours, prévention des risques.",
        ],
    },
    {
        "domaine": "Bâtiment et énergie",
        "formacode": "22454",
        "trainings": [
            ("Habilitation électrique B1V - BR", ("RS", "5823", "Habilitation électrique", "UTE / NF C 18-510", ""), (14, 28), (400, 900)),
            (
                "Électricien d'équipement du bâtiment",
                ("RNCP", "37705", "Électricien d'équipement du bâtiment", "Ministère du Travail", "3"),
                (500, 900),
                (4500, 8000),
            ),
            ("Plaquiste - plâtrier", ("RNCP", "38041", "Plaquiste", "Ministère du Travail", "3"), (400, 800), (4000, 7000)),
        ],
        "objectifs": ["Réaliser des opérations électriques en sécurité.", "Installer et poser des ouvrages de plâtrerie et d'isolation."],
        "contenu": [
            "Réglementation, risques électriques, consignation, mises en situation.",
            "Lecture de plans, pose de cloisons, isolation thermique, finitions.",
        ],
    },
    {
        "domaine": "Commerce, vente et marketing",
        "formacode": "34566",
        "trainings": [
            ("Vendeur conseil en magasin", ("RNCP", "37098", "Vendeur conseil en magasin", "Ministère du Travail", "4"), (400, 700), (3500, 6000)),
            (
                "Community manager - réseaux sociaux",
                ("RS", "5981", "Animer une communauté sur les réseaux sociaux", "CCI France", ""),
                (35, 105),
                (1200, 3500),
            ),
            (
                "Marketing digital et référencement",
                ("RS", "6163", "Concevoir une stratégie de marketing digital", "Google partenaires", ""),
                (35, 105),
                (1500, 3800),
            ),
        ],
        "objectifs": ["Accueillir, conseiller et vendre en magasin.", "Développer la visibilité d'une marque en ligne."],
        "contenu": [
            "Techniques de vente, merchandising, encaissement, fidélisation.",
            "Stratégie éditoriale, publicité en ligne, SEO, analyse d'audience.",
        ],
    },
    {
        "domaine": "Hôtellerie et restauration",
        "formacode": "42752",
        "trainings": [
            ("Cuisinier", ("RNCP", "34095", "Cuisinier", "Ministère du Travail", "3"), (500, 900), (4000, 7500)),
            (
                "Hygiène alimentaire en restauration commerciale (HACCP)",
                ("RS", "5802", "Hygiène alimentaire adaptée à la restauration commerciale", "Ministère de l'Agriculture", ""),
                (14, 14),
                (250, 500),
            ),
            ("Serveur en restauration", ("RNCP", "37859", "Serveur en restauration", "Ministère du Travail", "3"), (300, 600), (3000, 5500)),
        ],
        "objectifs": ["Préparer et dresser des plats en respectant les règles d'hygiène.", "Appliquer la méthode HACCP."],
        "contenu": [
            "Techniques culinaires, organisation du poste, coûts, hygiène.",
            "Dangers alimentaires, bonnes pratiques, plan de maîtrise sanitaire.",
        ],
    },
    {
        "domaine": "Création d'entreprise et accompagnement",
        "formacode": "32047",
        "trainings": [
            (
                "Créer et reprendre une entreprise",
                ("CREATION", "CREA-ENT", "Actions de formation à la création ou reprise d'entreprise", "—", ""),
                (35, 140),
                (900, 2500),
            ),
            ("Bilan de compétences", ("BILAN", "BILAN", "Bilan de compétences", "—", ""), (24, 24), (1200, 2400)),
            (
                "Accompagnement à la validation des acquis de l'expérience (VAE)",
                ("VAE", "VAE", "Accompagnement VAE", "—", ""),
                (20, 24),
                (1500, 2800),
            ),
        ],
        "objectifs": [
            "Construire son projet et son plan de financement.",
            "Faire le point sur ses compétences et construire un projet professionnel.",
        ],
        "contenu": [
            "Étude de marché, statut juridique, prévisionnel financier, démarches.",
            "Entretiens individuels, tests, exploration des métiers, synthèse.",
        ],
    },
]

VARIANTS = [
    "",
    " - niveau débutant",
    " - niveau intermédiaire",
    " - niveau avancé",
    " - parcours individualisé",
    " - session intensive",
    " - en soirée",
    " - cours particuliers",
    " - remise à niveau",
    " - formation certifiante",
]

ORGANISME_PREFIXES = [
    "Institut",
    "Académie",
    "Centre de formation",
    "École",
    "Atelier",
    "Campus",
    "GRETA",
    "AFPA Formation",
    "Formapro",
    "Compétences",
    "Cap Métiers",
    "Objectif",
    "Horizon",
    "Talents",
]
ORGANISME_SUFFIXES = [
    "Langues",
    "Numérique",
    "Conseil",
    "Formation",
    "Pro",
    "Expertise",
    "Métiers",
    "Avenir",
    "Savoirs",
    "Performance",
]

STREETS = [
    "Rue de la République",
    "Avenue Jean Jaurès",
    "Rue Victor Hugo",
    "Boulevard Gambetta",
    "Place de la Gare",
    "Rue Pasteur",
    "Avenue de la Libération",
    "Rue du Général de Gaulle",
    "Rue des Écoles",
    "Quai de la Loire",
]
