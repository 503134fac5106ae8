"""Built-in name lists, deliberately including the names that break naive code.

Apostrophes, hyphens, diacritics and non-Latin scripts all appear, so escaping and encoding bugs in
clients and pages show up in tests against the sandbox.
"""

GIVEN_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Sofía", "Mateo", "Ava", "Elijah", "Isabella", "Lucas",
    "Mia", "Ethan", "Camila", "Santiago", "Harper", "James", "Zoë", "Benjamin", "Aaliyah", "Diego",
    "Chloé", "Jayden", "Ximena", "Muhammad", "Priya", "Arjun", "Mei", "Hiroshi", "Nguyễn Thị Lan",
    "Seo-yeon", "Ji-ho", "Anaïs", "José", "María José", "Jean-Luc", "D'Andre", "Siobhán", "Björn",
    "Aleksandr", "Дмитрий", "Анна", "Δημήτρης", "美咲", "伟", "Oluwaseun", "Chiamaka", "Kai",
    "Leilani", "Mary-Kate", "Renée",
)  # fmt: skip

FAMILY_NAMES: tuple[str, ...] = (
    "Garcia", "Smith", "Johnson", "Hernández", "Nguyen", "Williams", "Martínez", "Brown", "López",
    "Kim", "Patel", "Jones", "O'Brien", "Rodríguez", "Smith-Jones", "Davis", "Pérez", "Chen", "Wang",
    "Singh", "Müller", "O'Connor", "D'Angelo", "García-Márquez", "Le", "Tran", "Park", "Wilson",
    "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Okafor", "Adeyemi", "Yamamoto", "Ōtsuka",
    "Иванов", "Παπαδόπουλος", "李", "王", "St. Clair", "Van der Berg", "MacDonald", "Ramírez",
    "Flores", "Rivera", "Gómez", "Díaz", "Reyes",
)  # fmt: skip
